"""File formats to figure rows: HXL sheets, UCDP GED tables, the bundled tables, this app's
own export read back, and the downloads written. Pure: text in, DataFrames out."""
