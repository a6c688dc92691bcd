fn main() {
    std::process::exit(lidarflow::cli::main());
}
