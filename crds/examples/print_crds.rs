//! Prints every CRD as YAML (debug aid; `ecs-operator crds` is the real command).
fn main() {
    print!("{}", crds::all_crds_yaml());
}
