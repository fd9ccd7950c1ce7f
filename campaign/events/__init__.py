"""Practice meetings, trainings and invitations."""
