"""Publish step: the SQL warehouse (``warehouse``) and the consolidated workbook (``workbook``)."""
