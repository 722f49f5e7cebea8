"""The LINE channel: one webhook per council (`POST /line/<council>`).

`routes` verifies and parses the webhook, `events` turns each event into a
reply, `flex` renders an `Answer` as LINE messages within LINE's limits,
`postback` encodes what a button carries, `client` sends the reply.
"""
