"""Slack: staff ask in Slack and see the resident answer plus what staff need.

Built on slack-bolt (`AsyncApp`): bolt verifies signatures and parses events,
slash commands and button presses; these modules choose the council, ask the
core, and render the one `Answer` as Block Kit.
"""
