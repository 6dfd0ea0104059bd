"""What only the Airflow DAGs (dags/) use: the assets, pool and retry defaults they share and the
failure callbacks that record failed tries. The steps the tasks run live in the rest of pipeline/."""
