//! The `sofleet` command line.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("sofleet: the command line is not built yet (see issue 6)")
}
