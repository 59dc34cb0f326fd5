"""The campaign's results after the window: analysis over the Parquet export, reports and exports analysts open."""
