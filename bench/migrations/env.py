from salesflow.migrations import run_env

run_env()
