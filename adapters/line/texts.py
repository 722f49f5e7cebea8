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
    website = "ホームページ"
    window_heading = "問い合わせ先"
