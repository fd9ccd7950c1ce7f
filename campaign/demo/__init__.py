"""Demo data, above every domain: the demo network of seed 004 (`network`), running now with an
invented pilot in progress (`living` says what happened when, `replay` lives those weeks through
the real jobs, for `campaign demo`), or over 2013-2015 with an invented pilot that has run
(`pilot`, for `campaign demo --historic`), and a whole campaign run day by day in a throwaway
database (`simulation` with `acting`, for `campaign simulate`). The invented people, pilot
groups, trainings and answers of all of them come from `people`."""
