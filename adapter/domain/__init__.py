"""Business rules of the legal department: no transport, no ORM in here."""
