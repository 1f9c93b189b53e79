"""The operation's store: tables, migrations, the consent ledger, the audit chain."""
