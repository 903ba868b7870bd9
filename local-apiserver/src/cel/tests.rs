//! Behaviour of `Program` on the rules the operator's CRDs and Kubernetes users write.

use serde_json::{Value, json};

use super::{CelError, INLINE_DEPTH, Program};

fn rule(src: &str, this: Value) -> Result<bool, CelError> {
    Program::compile(src)?.eval_bool(&this, None)
}

#[test]
fn operator_crd_rules() {
    let spec = json!({"minCapacity": 1, "maxCapacity": 4, "codeDeploy": {}, "weight": 50, "list": [1, 2, 3]});
    for src in [
        "self.minCapacity <= self.maxCapacity",
        "has(self.codeDeploy) != has(self.ecsNative)",
        "self.weight >= 0 && self.weight <= 100",
        "!has(self.codeDeploy) || !has(self.ecsNative)",
        "size(self.list) <= 10",
        "self.list.all(x, x > 0)",
        "self.list.exists(x, x == 3)",
        "self.list.exists_one(x, x >= 3)",
    ] {
        assert!(rule(src, spec.clone()).unwrap(), "{src}");
    }
    assert!(!rule("self.minCapacity > self.maxCapacity", spec).unwrap());
}

#[test]
fn transition_rules_see_old_self() {
    let p = Program::compile("self == oldSelf").unwrap();
    assert!(p.uses_old_self());
    assert!(p.eval_bool(&json!("a"), Some(&json!("a"))).unwrap());
    let (new, old) = (json!({"x": [1]}), json!({"x": [2]}));
    assert!(!p.eval_bool(&new, Some(&old)).unwrap());
    assert!(!Program::compile("self.a > 0").unwrap().uses_old_self());
    // a macro variable named oldSelf shadows it
    let shadowed = Program::compile("self.l.all(oldSelf, oldSelf > 0)").unwrap();
    assert!(!shadowed.uses_old_self());
    assert!(shadowed.eval_bool(&json!({"l": [1]}), None).unwrap());
}

#[test]
fn missing_fields_error_unless_absorbed() {
    let err = rule("self.a > 1", json!({})).unwrap_err();
    assert_eq!(err.to_string(), "no such key: a");
    assert!(rule("has(self.a) && self.a > 1 || true", json!({})).unwrap());
    assert!(!rule("self.a > 1 && false", json!({})).unwrap());
    let l = json!({"l": [{"b": 1}, {"a": 1}]});
    assert!(rule("self.l.exists(x, x.a == 1)", l.clone()).unwrap());
    assert_eq!(
        rule("self.l.all(x, x.a == 1)", l).unwrap_err().to_string(),
        "no such key: a"
    );
}

#[test]
fn strings_lists_maps_and_arithmetic() {
    let obj = json!({"name": "web-1", "tags": {"team": "a"}, "l": ["b", "a"], "n": 7, "d": 1.5});
    for src in [
        "self.name.startsWith('web') && self.name.endsWith('-1') && self.name.contains('b-')",
        "self.name.matches('^[a-z]+-[0-9]$') && matches(self.name, 'b')",
        "'team' in self.tags && self.tags.team == 'a' && self.tags['team'] == 'a'",
        "has(self.tags.team) && !has(self.tags.other) && size(self.tags) == 1",
        "'a' in self.l && self.l[0] == 'b' && size(self.l) == 2 && self.l.size() == 2",
        "self.n % 4 == 3 && self.n / 2 == 3 && self.n * 2 - 1 == 13 && -self.n == -7",
        "self.d > 1 && self.n > self.d && double(self.n) == 7.0 && int(self.d) == 1",
        "self.n == 7u && self.n == 7.0 && [1, 2] == [1.0, 2u] && type(self.n) == int",
        "self.l.map(x, x + '!') == ['b!', 'a!'] && self.l.filter(x, x == 'a') == ['a']",
        "self.l.map(x, x == 'a', x + '!') == ['a!']",
        "self.tags.all(k, k == 'team') && {'a': 1}.a == 1 && [1, 2] + [3] == [1, 2, 3]",
        "self.name.split('-') == ['web', '1'] && ['x', 'y'].join('-') == 'x-y' && ['x'].join() == 'x'",
        "'ABC'.lowerAscii() == 'abc' && 'abc'.upperAscii() == 'ABC' && '  x '.trim() == 'x'",
        "self.name.substring(0, 3) == 'web' && self.name.substring(4) == '1' && 'abc'.charAt(1) == 'b'",
        "'a.b.c'.replace('.', '-') == 'a-b-c' && 'a.b.c'.replace('.', '-', 1) == 'a-b.c'",
        "'héllo'.indexOf('l') == 2 && 'hello'.lastIndexOf('l') == 3 && 'x'.indexOf('y') == -1",
        "[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && [1].indexOf(3) == -1",
        "[3, 1, 2].sum() == 6 && [].sum() == 0 && [1.5, 2.5].sum() == 4.0 && [1u].sum() == 1u",
        "[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3 && ['b', 'a'].max() == 'b'",
        "![3, 1].isSorted() && [1, 1, 2].isSorted() && [].isSorted() && ['a', 'b'].isSorted()",
        "string(self.n) == '7' && string(7u) == '7' && string(true) == 'true' && string(1.5) == '1.5'",
        "int('12') == 12 && int(-1.5) == -1 && uint(1.5) == 1u && double('1.5') == 1.5",
        "bool('true') && !bool('f') && dyn(1) == 1.0",
        "true ? self.n == 7 : self.missing",
        "{'a': 1, 'a': 2}.a == 2",
        "0x1F == 31 && r'\\d' == '\\\\d' && \"a\" == 'a' // a comment",
    ] {
        assert!(rule(src, obj.clone()).unwrap(), "{src}");
    }
}

#[test]
fn runtime_errors_are_errors_not_panics() {
    for (src, message) in [
        ("self.n / 0 == 1", "division by zero"),
        ("self.n % 0 == 1", "modulus by zero"),
        ("9223372036854775807 + 1 > 0", "integer overflow"),
        ("[9223372036854775807, 1].sum() > 0", "integer overflow"),
        ("0u - 1u > 0u", "integer overflow"),
        ("self.l[5] == 1", "Index out of bounds"),
        ("self.l[-1] == 1", "Index out of bounds"),
        ("self.name.substring(5, 1) == ''", "substring"),
        ("self.name.matches('(')", "not a valid regex"),
        ("self.n + 'a' == 'b'", "add"),
        // as in Kubernetes, arithmetic does not mix int, uint and double
        ("self.n * 1.5 > 1.0", "mul"),
        ("self.n + 1u > 1u", "add"),
        ("[].min() == 1", "min called on empty list"),
        ("[1, 'a'].max() == 1", "max"),
        ("int('x') == 1", "int"),
        ("uint(-1) == 1u", "uint"),
        ("bool('yes')", "bool"),
        ("self.n", "rule did not evaluate to a bool"),
    ] {
        let err = rule(src, json!({"n": 1, "l": [], "name": "ab"})).unwrap_err();
        assert!(err.to_string().contains(message), "{src}: {err}");
    }
}

#[test]
fn message_expressions_yield_strings() {
    let p = Program::compile("'min ' + string(self.min) + ' exceeds max'").unwrap();
    let msg = p.eval_string(&json!({"min": 3}), None).unwrap();
    assert_eq!(msg, "min 3 exceeds max");
    let not_a_string = Program::compile("self.min").unwrap();
    assert!(not_a_string.eval_string(&json!({"min": 3}), None).is_err());
}

#[test]
fn undeclared_variables_and_functions_are_rejected_at_compile_time() {
    for (src, message) in [
        ("other.x > 1", "undeclared reference to 'other'"),
        ("self.l.all(x, x > y)", "undeclared reference to 'y'"),
        (
            "self.l.all(x, x > 0) && x > 0",
            "undeclared reference to 'x'",
        ),
        (
            "self.q.isQuantity()",
            "function isQuantity() is not supported",
        ),
        (
            "timestamp(self.t) > now",
            "function timestamp() is not supported",
        ),
        ("Foo{a: 1} == self", "undeclared reference to 'Foo'"),
    ] {
        let err = Program::compile(src).unwrap_err();
        assert_eq!(err.to_string(), message, "{src}");
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for src in [
        "", "(", "a.", "a[1", "{1:", "1 +", "a ? b", "))", "[1,,2]", "f(", "a.b(", "'", "1 ==",
    ] {
        assert!(Program::compile(src).is_err(), "{src}");
    }
}

/// The test thread has the 2 MiB stack the server's threads have: deep rules must neither
/// overflow it nor be refused short of the limits.
#[test]
fn deep_rules_neither_overflow_nor_abort() {
    let parens = |n| format!("{}true{}", "(".repeat(n), ")".repeat(n));
    assert!(rule(&parens(90), json!({})).unwrap());
    assert!(Program::compile(&parens(500)).is_err());
    let chain = |n| vec!["1"; n].join(" + ") + " > 0";
    assert!(rule(&chain(200), json!({})).unwrap());
    let err = Program::compile(&chain(300)).unwrap_err().to_string();
    assert!(err.contains("nested deeper than 250"), "{err}");
    let err = Program::compile(&chain(5_000)).unwrap_err().to_string();
    assert!(err.contains("longer than"), "{err}");
}

/// Rules up to `INLINE_DEPTH` deep are evaluated on the caller's stack: they must fit in half
/// of a 2 MiB thread stack, even unoptimised.
#[test]
fn shallow_rules_fit_in_a_megabyte_of_stack() {
    let chain = vec!["self.n"; INLINE_DEPTH - 2].join(" + ") + " > 0";
    let p = Program::compile(&chain).unwrap();
    assert_eq!(p.depth, INLINE_DEPTH);
    let result = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || p.eval_bool(&json!({"n": 1}), None))
        .unwrap()
        .join()
        .unwrap();
    assert!(result.unwrap());
}
