//! Remote sofleet executor backend: workers on other machines through Redis Streams consumer groups.
