//! A fleet worker for this example's tasks: the whole program is one line, because every
//! `#[sofleet::task]` of the library it links registers itself.

use sofleet_example_fleet as _;

fn main() {
    sofleet::worker::main()
}
