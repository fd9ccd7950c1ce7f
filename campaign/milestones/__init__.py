"""Milestones: named dates of a campaign, or of one member in it, that sequence steps count from."""
