"""Exports of registrations for staff, delivered as short-lived signed download links.

``exports.csv_export.routes(services)`` returns the Starlette routes the app mounts.
"""
