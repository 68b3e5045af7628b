"""The Streamlit pages (one module per page) and the pieces they share; `views/logic` and `views/charts.py` hold the pure parts."""
