"""Operations: metrics, logs, request ids, health checks and the gunicorn configuration."""
