-- The DuckLake catalog of WIREHOUSE_WAREHOUSE=ducklake (docker-compose.yaml): its own
-- database beside Airflow's metadata, owned by the same user. The postgres image runs this
-- once, when the postgres-db-volume is first initialised.
CREATE DATABASE wirehouse_lake OWNER airflow;
