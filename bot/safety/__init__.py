"""Checked before retrieval: a message that signals danger gets the hotlines first."""
