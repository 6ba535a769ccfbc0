"""Plain Python, no ORM: PICO's GraphQL documents, the HTTP client, payload parsing."""
