"""Stewards' review: scoped queries over the warehouse, audited actions, and the web app.

Everything except :mod:`huizong.review.app` is plain Python on a SQLAlchemy engine, so it is
testable without Airflow; the app is mounted into Airflow's API server by
``plugins/huizong_review.py``.
"""
