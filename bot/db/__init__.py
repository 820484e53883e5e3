"""The database: tables, migrations, the unit of work and every SQL statement on patients and reminders."""
