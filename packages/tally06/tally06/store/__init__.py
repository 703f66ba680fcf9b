"""PostgreSQL: one module per table family, the migrations, and versioned rows in force."""
