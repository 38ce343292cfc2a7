"""Wirehouse: a nightly news warehouse.

The package does all the work (discover, fetch, extract, land, load); the Airflow DAGs in
`dags/` only wire its functions together, and nothing here imports Airflow.
"""

__version__ = "0.1.0"
