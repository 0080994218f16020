#[sofleet::task]
pub fn log(line: String) {
    println!("{line}");
}

#[sofleet::task]
pub fn length(line: String) -> usize {
    line.len()
}

fn main() {}
