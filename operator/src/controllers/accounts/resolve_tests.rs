use super::*;
use crds::AwsAccountBindingSpec;
use crds::common::Tag;

fn binding(name: &str, namespaces: &[&str], account: &str) -> Arc<AwsAccountBinding> {
    let mut b = AwsAccountBinding::new(
        name,
        AwsAccountBindingSpec {
            namespaces: namespaces.iter().map(|n| (*n).to_owned()).collect(),
            account_id: account.into(),
            role_arn: format!("arn:aws:iam::{account}:role/ecs-operator"),
            external_id: Some("x-1".into()),
            session_tags: vec![Tag {
                key: "team".into(),
                value: "b".into(),
            }],
            session_duration_seconds: None,
            regions: vec!["eu-west-1".into(), "eu-central-1".into()],
            default_region: None,
        },
    );
    b.metadata.creation_timestamp = None;
    Arc::new(b)
}

#[test]
fn an_unbound_namespace_uses_the_operator_identity_only_as_allowed() {
    let none: Vec<Arc<AwsAccountBinding>> = vec![];
    let some = vec![binding("team-b", &["team-b"], "210987654321")];
    assert!(matches!(
        binding_of(&none, "shop", UnboundNamespaces::Auto),
        Ok(Binding::Operator)
    ));
    let refused = binding_of(&some, "shop", UnboundNamespaces::Auto).unwrap_err();
    assert_eq!(refused.reason, "NoAccountBinding");
    assert!(
        refused.message.contains("--unbound-namespaces=auto"),
        "{}",
        refused.message
    );
    assert!(matches!(
        binding_of(&some, "shop", UnboundNamespaces::OperatorIdentity),
        Ok(Binding::Operator)
    ));
    let never = binding_of(&none, "shop", UnboundNamespaces::Refuse).unwrap_err();
    assert!(
        never.message.contains("--unbound-namespaces=refuse"),
        "{}",
        never.message
    );
}

#[test]
fn a_namespace_two_bindings_name_is_refused_naming_both() {
    let both = vec![
        binding("b", &["team-b"], "210987654321"),
        binding("a", &["team-a", "team-b"], "123456789012"),
    ];
    let refused = binding_of(&both, "team-b", UnboundNamespaces::OperatorIdentity).unwrap_err();
    assert_eq!(refused.reason, "AccountBindingConflict");
    assert!(
        refused.message.contains("AwsAccountBindings a and b"),
        "{}",
        refused.message
    );
    assert!(matches!(
        binding_of(&both, "team-a", UnboundNamespaces::Auto),
        Ok(Binding::Bound(b)) if b.name_any() == "a"
    ));
}

#[test]
fn a_binding_gives_its_role_and_refuses_regions_it_does_not_allow() {
    let bound = Binding::Bound(binding("team-b", &["team-b"], "210987654321"));
    let t = target(&bound, "team-b", None, "us-east-1").unwrap();
    assert_eq!(
        t.region, "eu-west-1",
        "the binding's first region by default"
    );
    assert_eq!(t.account(), "210987654321");
    let Identity::Role(session) = &t.identity else {
        panic!("a role")
    };
    assert_eq!(
        session.role_arn,
        "arn:aws:iam::210987654321:role/ecs-operator"
    );
    assert_eq!(session.external_id.as_deref(), Some("x-1"));
    assert_eq!(session.session_name, "ecs-operator-team-b");
    assert_eq!(session.session_tags, [("team".to_owned(), "b".to_owned())]);
    assert_eq!(session.duration, DEFAULT_SESSION);
    let refused = target(&bound, "team-b", Some("us-east-1"), "us-east-1").unwrap_err();
    assert_eq!(refused.reason, "RegionNotAllowed");
    assert!(
        refused.message.contains(
            "AwsAccountBinding team-b (account 210987654321) allows eu-west-1, eu-central-1"
        ),
        "{}",
        refused.message
    );
    let own = target(&Binding::Operator, "shop", None, "us-east-1").unwrap();
    assert_eq!(
        (own.account(), own.region.as_str()),
        ("operator", "us-east-1")
    );
}

#[test]
fn session_names_keep_to_what_sts_accepts() {
    assert_eq!(session_name("a:b"), "ecs-operator-a-b");
    assert_eq!(session_name(&"x".repeat(80)).len(), 64);
}

#[test]
fn a_changed_account_is_refused_until_confirmed() {
    let bound = Binding::Bound(binding("team-b", &["team-b"], "210987654321"));
    let t = target(&bound, "team-b", None, "eu-west-1").unwrap();
    let who = "-n team-b ecsservice/web";
    assert_eq!(check_move(who, None, &t, None, false), Move::Record);
    assert_eq!(
        check_move(who, Some("210987654321"), &t, None, false),
        Move::Stay
    );
    let Move::Refused(r) = check_move(who, Some("operator"), &t, None, false) else {
        panic!("refused")
    };
    assert_eq!(r.reason, "AccountChanged");
    assert!(
        r.message.contains("nothing is created in 210987654321"),
        "{}",
        r.message
    );
    assert!(
        r.message.contains("kubectl annotate --overwrite -n team-b ecsservice/web ecs-operator.dev/confirm-account=210987654321"),
        "{}",
        r.message
    );
    // A confirmation of another account does not count.
    assert!(matches!(
        check_move(who, Some("operator"), &t, Some("999999999999"), false),
        Move::Refused(_)
    ));
    assert_eq!(
        check_move(who, Some("operator"), &t, Some("210987654321"), false),
        Move::Confirmed {
            from: "operator".into()
        }
    );
    let Move::Refused(deleting) = check_move(who, Some("operator"), &t, None, true) else {
        panic!("refused")
    };
    assert!(
        deleting.message.contains("its deletion waits"),
        "{}",
        deleting.message
    );
}

#[test]
fn objects_that_acted_before_accounts_were_recorded_are_in_the_operator_account() {
    assert_eq!(recorded(None, false), None);
    assert_eq!(recorded(None, true).as_deref(), Some("operator"));
    assert_eq!(
        recorded(Some("210987654321"), true).as_deref(),
        Some("210987654321")
    );
}
