pub struct Counter {
    n: u64,
}

impl Counter {
    #[sofleet::task]
    pub fn next(&self, by: u64) -> Result<u64, sofleet::TaskError> {
        Ok(self.n + by)
    }
}

fn main() {}
