"""Demo data, above every domain: the demo network of seed 004 (`network`) and an invented
pilot that has run in it (`pilot`), for `campaign demo` and `campaign serve --demo`."""
