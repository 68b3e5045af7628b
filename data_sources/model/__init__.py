"""The model: what a figure is (metrics, the observation shape and its rules), where it is
(places, countries) and how event rows add up. Pure: no database, no network."""
