"""Demo data, above every domain: the demo network of seed 004 (`network`), an invented pilot
that has run in it (`pilot`, for `campaign demo --pilot`), and a whole campaign run day by day
in a throwaway database (`simulation` with `acting`, for `campaign simulate`). The invented
people, pilot groups, trainings and answers of both come from `people`."""
