//! A polite, fault-tolerant Stack Overflow crawler expressed as sofleet executor tasks.
