//! AWS's enumerated strings (statuses, states, controller types) as Rust enums: each known
//! value is a variant, anything else AWS may add later is kept as `Unknown` instead of
//! failing to parse. They serialise to, and compare as, AWS's own spelling.

/// Declares an enum of AWS strings: `Variant => "AWS_SPELLING"`, plus `Unknown(String)`; one
/// variant carries `#[default]`.
#[macro_export]
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $aws:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the operator does not know.
            Unknown(String),
        }

        impl $name {
            /// AWS's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $aws,)+
                    $name::Unknown(s) => s.as_str(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($aws => $name::$variant,)+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name::from(s.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name::from)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    aws_enum!(
        /// A test enum.
        Colour {
            /// Red.
            #[default]
            Red => "RED",
            /// Blue.
            Blue => "BLUE",
        }
    );

    #[test]
    fn known_and_unknown_values_round_trip() {
        assert_eq!(Colour::from("RED"), Colour::Red);
        assert_eq!(Colour::from("GREEN"), Colour::Unknown("GREEN".into()));
        assert_eq!(Colour::Blue.as_str(), "BLUE");
        let json = serde_json::to_string(&Colour::Unknown("GREEN".into())).unwrap();
        assert_eq!(json, "\"GREEN\"");
        assert_eq!(
            serde_json::from_str::<Colour>("\"BLUE\"").unwrap(),
            Colour::Blue
        );
    }
}
