#[sofleet::task]
pub fn parse(text: String) -> Result<u64, std::num::ParseIntError> {
    text.parse()
}

fn main() {}
