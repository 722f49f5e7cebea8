"""Sentences only LINE needs (greeting, message kinds, buttons), in plain Japanese.

Facts and answers come from `bot`; these are the channel's own words.
"""

from __future__ import annotations

__all__ = ["T", "KIND_NAMES"]

# LINE message types that carry no text, as a resident would name them
KIND_NAMES: dict[str, str] = {
    "sticker": "スタンプ",
    "image": "画像",
    "audio": "音声",
    "video": "動画",
    "file": "ファイル",
    "location": "位置情報",
}


class T:
    greeting = (
        "友だち追加ありがとうございます。{council}の窓口案内です。\n"
        "困っていることや知りたいサービスを、短い言葉で送ってください。"
        "下のボタンからも選べます。"
    )
    kind = "{kind}を受け取りました。ごめんなさい、文字のメッセージだけ読むことができます。知りたいことを短い言葉で送るか、下のボタンから選んでください。"
    sorry = "ごめんなさい、このメッセージはうまく読み取れませんでした。言葉を変えて、もう一度送ってください。"
    feedback_question = "役に立ちましたか？"
    feedback_yes = "はい"
    feedback_no = "いいえ"
    thanks_yes = "ありがとうございます。お役に立ててよかったです。"
    thanks_no = "お役に立てず、ごめんなさい。ほかの言葉で聞き直すか、窓口に直接ご相談ください。"
    more = "もっと見る"
    menu = "メニュー"
    call = "電話する"
    call_number = "{number}に電話する"
    maybe = "もしかして、こちらのことですか？"
    website = "ホームページ"
    window_heading = "問い合わせ先"
    # -- a person (相談につなぐ) --------------------------------------------------
    to_person = "職員に相談する"
    consent = (
        "{council}の職員に相談をつなぎます。\n"
        "職員に伝わるのは、このあと送っていただく相談の内容（電話番号などの数字は伏せます）と、"
        "直前にご案内したサービスの名前です。お返事はこのトークに届きます。\n"
        "つないでよろしいですか？"
    )
    consent_yes = "はい、つないでください"
    consent_no = "いいえ"
    declined = "わかりました。職員にはつなぎませんでした。ほかに知りたいことがあれば送ってください。"
    ask_question = "相談したいことを、ひとつのメッセージで送ってください。"
    handed_over = "職員に伝えました。担当の職員から、このトークでお返事します。続けて送ったメッセージも職員に届きます。"
    already_handed_over = "いま職員につながっています。このままメッセージを送ってください。職員に届きます。"
    after_hours = "いまは受付時間外のため、職員が読むのは{when}ごろになります。"
    no_person = "ごめんなさい。いまはここから職員におつなぎできません。お手数ですが、窓口に直接ご連絡ください。"
    handover_failed = "ごめんなさい。職員に届けられませんでした。お手数ですが、窓口に直接ご連絡ください。"
    staff_sender = "社協の職員"  # the name LINE shows beside a staff reply (≤20 characters)
    from_staff = "【{council} 職員より】\n{text}"
    closed = "職員との相談を終わります。ありがとうございました。またいつでもメッセージを送ってください。"
    # -- the rich menu ------------------------------------------------------------
    menu_person = "相談したい"
    menu_call = "電話"
    menu_sos = "緊急のとき"
    menu_bar = "メニュー"
