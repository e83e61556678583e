"""A small CRM in SQLite: customers, call records, callbacks, tickets, statistics."""
