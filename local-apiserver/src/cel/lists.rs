//! Kubernetes' CEL lists library (`k8s.io/apiserver/pkg/cel/library/lists.go`), which the `cel`
//! crate lacks: `isSorted()`, `sum()`, `min()`, `max()`, `indexOf(x)` and `lastIndexOf(x)` on
//! lists, as `Env` overloads. Pure functions of their arguments.

use std::cmp::Ordering;

use cel::common::traits::Iterable;
use cel::common::types::{CelBool, CelInt, DYN_TYPE, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

/// Registers the library's overloads on `env`.
pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload("isSorted", "list_is_sorted", LIST_TYPE, vec![], is_sorted)?;
    env.add_member_overload("sum", "list_sum", LIST_TYPE, vec![], sum)?;
    env.add_member_overload("min", "list_min", LIST_TYPE, vec![], min)?;
    env.add_member_overload("max", "list_max", LIST_TYPE, vec![], max)?;
    // The strings extension declares `indexOf` and `lastIndexOf` on strings; these are the list
    // overloads beside them.
    env.add_member_overload(
        "indexOf",
        "list_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        index_of,
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list_last_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        last_index_of,
    )
}

type Overload<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

/// Whether no element is greater than the one after it.
fn is_sorted<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Overload<'b, 'v> {
    let [list] = take(args)?;
    let items = elements("isSorted", &list)?;
    for pair in items.windows(2) {
        if compare("isSorted", pair[0], pair[1])? == Ordering::Greater {
            return Ok(CowVal::owned(CelBool::from(false)));
        }
    }
    Ok(CowVal::owned(CelBool::from(true)))
}

/// The sum of the elements, which must all be of one numeric type (or durations); `0` when empty.
/// Integer overflow is an error, as for `+`.
fn sum<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Overload<'b, 'v> {
    let [list] = take(args)?;
    let items = elements("sum", &list)?;
    let Some((first, rest)) = items.split_first() else {
        return Ok(CowVal::owned(CelInt::from(0)));
    };
    let mut total = first.clone_as_boxed();
    for item in rest {
        let adder = total
            .as_adder()
            .ok_or_else(|| overload("sum", total.as_ref()))?;
        total = adder.add(*item)?.into_owned();
    }
    Ok(CowVal::Owned(total))
}

fn min<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Overload<'b, 'v> {
    extreme("min", args, Ordering::Less)
}

fn max<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Overload<'b, 'v> {
    extreme("max", args, Ordering::Greater)
}

/// The first element that orders `wins` against every other one; an error for an empty list.
fn extreme<'b, 'v>(function: &str, args: Vec<CowVal<'b, 'v>>, wins: Ordering) -> Overload<'b, 'v> {
    let [list] = take(args)?;
    let items = elements(function, &list)?;
    let mut best = *items.first().ok_or_else(|| {
        ExecutionError::function_error(function, format!("{function} called on empty list"))
    })?;
    for &item in &items[1..] {
        if compare(function, item, best)? == wins {
            best = item;
        }
    }
    Ok(CowVal::Owned(best.clone_as_boxed()))
}

fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Overload<'b, 'v> {
    let [list, value] = take(args)?;
    let items = elements("indexOf", &list)?;
    let found = items.iter().position(|item| item.equals(value.as_ref()));
    Ok(CowVal::owned(CelInt::from(found.map_or(-1, to_int))))
}

fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Overload<'b, 'v> {
    let [list, value] = take(args)?;
    let items = elements("lastIndexOf", &list)?;
    let found = items.iter().rposition(|item| item.equals(value.as_ref()));
    Ok(CowVal::owned(CelInt::from(found.map_or(-1, to_int))))
}

/// The `N` arguments of an overload declared with `N - 1` besides its receiver.
fn take<'b, 'v, const N: usize>(
    args: Vec<CowVal<'b, 'v>>,
) -> Result<[CowVal<'b, 'v>; N], ExecutionError> {
    args.try_into()
        .map_err(|args: Vec<_>| ExecutionError::invalid_argument_count(N, args.len()))
}

/// The elements of `list`, borrowed.
fn elements<'a, 'v>(
    function: &str,
    list: &'a CowVal<'_, 'v>,
) -> Result<Vec<&'a (dyn Val + 'v)>, ExecutionError> {
    let iterable: &dyn Iterable = list
        .as_iterable()
        .ok_or_else(|| overload(function, list.as_ref()))?;
    let mut iter = iterable.iter();
    let mut items = Vec::new();
    while let Some(item) = iter.next() {
        items.push(item);
    }
    Ok(items)
}

fn compare(function: &str, a: &dyn Val, b: &dyn Val) -> Result<Ordering, ExecutionError> {
    a.as_comparer()
        .ok_or_else(|| overload(function, a))?
        .compare(b)
        .map_err(|_| {
            ExecutionError::no_such_member_overload(function, vec![type_name(a), type_name(b)])
        })
}

fn overload(function: &str, value: &dyn Val) -> ExecutionError {
    ExecutionError::no_such_member_overload(function, vec![type_name(value)])
}

fn type_name(value: &dyn Val) -> String {
    value.get_type().name().to_owned()
}

fn to_int(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}
