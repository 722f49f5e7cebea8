"""Madoguchi core: knowledge, Japanese understanding, matching and answers.

This package never imports an adapter or a network library, so the same answer
can be rendered for LINE, Slack or a terminal.
"""
