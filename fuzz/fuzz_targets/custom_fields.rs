//! Fuzz target: custom-field validation (`domain::fields::validate`) against arbitrary field
//! definitions that `rules::check_fields` accepts, with arbitrary values: what it accepts it
//! accepts again, and what it refuses it refuses naming a field.

#![no_main]

use std::collections::BTreeMap;

use activity_hub::domain::fields::{
    check_value, status_options, validate, FieldInput, MAX_VALUE_LEN,
};
use activity_hub::domain::rules::check_fields;
use activity_hub::domain::{ActivityType, DataType, FieldDef, TypeKind};
use activity_hub::error::{Error, Field};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// Values of each data type as clients send them, so the fuzzer reaches the accepting paths.
const SAMPLES: [&str; 16] = [
    "12.5",
    "-3e2",
    "2015-10-11 12:13:44",
    "2016-07-07",
    "true",
    "No",
    "Open",
    "a;b",
    "ada@example.com",
    "+1 (555) 123-4567",
    "https://example.com",
    "Active",
    "Won",
    "",
    "  ",
    "9999-12-31 23:59:59",
];

#[derive(Arbitrary, Debug)]
struct Def {
    /// `mx_Custom_{n}`; numbers past 50 (and the odd spelling) test check_fields' refusals.
    number: u8,
    spelling: Option<String>,
    data_type: u8,
    mandatory: bool,
    options: Vec<String>,
}

#[derive(Arbitrary, Debug)]
enum Name {
    /// The n-th definition's name, in some letter case and padding.
    Def {
        index: u8,
        upper: bool,
        padded: bool,
    },
    Status,
    Owner,
    Note,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Sample(u8),
    /// One of the options of the field the value goes to (or of the n-th field).
    Option(u8),
    /// Several options joined with `;` (MultiSelect).
    Options(Vec<u8>),
    Any(String),
}

#[derive(Arbitrary, Debug)]
struct Case {
    kind: u8,
    defs: Vec<Def>,
    inputs: Vec<(Name, Value)>,
    skip_option_check: bool,
}

fn def_of(d: &Def) -> FieldDef {
    FieldDef {
        schema_name: d
            .spelling
            .clone()
            .unwrap_or_else(|| format!("mx_Custom_{}", d.number)),
        display_name: format!("Field {}", d.number),
        data_type: DataType::ALL[usize::from(d.data_type) % DataType::ALL.len()],
        is_mandatory: d.mandatory,
        sequence: i64::from(d.number),
        options: d.options.clone(),
    }
}

fn name_of(n: &Name, defs: &[FieldDef]) -> String {
    match n {
        Name::Def {
            index,
            upper,
            padded,
        } => {
            let Some(d) = defs.get(usize::from(*index) % defs.len().max(1)) else {
                return "mx_Custom_1".into();
            };
            let mut s = if *upper {
                d.schema_name.to_ascii_uppercase()
            } else {
                d.schema_name.clone()
            };
            if *padded {
                s = format!(" {s}\t");
            }
            s
        }
        Name::Status => "status".into(),
        Name::Owner => "Owner".into(),
        Name::Note => "ActivityEvent_Note".into(),
        Name::Other(s) => s.clone(),
    }
}

fn value_of(v: &Value, name: &str, defs: &[FieldDef]) -> String {
    let options = |i: u8| -> Vec<String> {
        defs.iter()
            .find(|d| d.schema_name.eq_ignore_ascii_case(name.trim()))
            .or_else(|| defs.get(usize::from(i) % defs.len().max(1)))
            .map(|d| d.options.clone())
            .unwrap_or_default()
    };
    match v {
        Value::Sample(i) => SAMPLES[usize::from(*i) % SAMPLES.len()].into(),
        Value::Option(i) => {
            let o = options(*i);
            o.get(usize::from(*i) % o.len().max(1))
                .cloned()
                .unwrap_or_default()
        }
        Value::Options(ix) => {
            let o = options(0);
            ix.iter()
                .filter_map(|i| o.get(usize::from(*i) % o.len().max(1)).cloned())
                .collect::<Vec<_>>()
                .join(";")
        }
        Value::Any(s) => s.clone(),
    }
}

fuzz_target!(|case: Case| {
    let defs: Vec<FieldDef> = case.defs.iter().map(def_of).collect();
    if check_fields(&defs).is_err() {
        return;
    }
    let kind =
        [TypeKind::System, TypeKind::Custom, TypeKind::Opportunity][usize::from(case.kind) % 3];
    let ty = ActivityType {
        id: 1,
        guid: Default::default(),
        event_code: 201,
        name: "Fuzzed".into(),
        display_name: "Fuzzed".into(),
        score: 0,
        description: String::new(),
        direction: 0,
        kind,
        is_email_type: false,
        salesloft_type: "note".into(),
        fields: defs.clone(),
    };
    let inputs: Vec<FieldInput> = case
        .inputs
        .iter()
        .map(|(n, v)| {
            let schema_name = name_of(n, &defs);
            let value = value_of(v, &schema_name, &defs);
            FieldInput { schema_name, value }
        })
        .collect();

    let empty = BTreeMap::new();
    match validate(&ty, &inputs, &empty, case.skip_option_check) {
        Ok(out) => {
            for (name, value) in &out.custom {
                let def = ty.field(name).expect("a stored value belongs to a field");
                assert_eq!(&def.schema_name, name, "stored under its own spelling");
                assert!(!value.trim().is_empty());
                assert!(value.chars().count() <= MAX_VALUE_LEN);
                assert!(check_value(def, value, case.skip_option_check).is_ok());
            }
            for def in defs.iter().filter(|d| d.is_mandatory) {
                assert!(out.custom.contains_key(&def.schema_name));
            }
            if let Some(s) = &out.status {
                assert!(status_options(kind).contains(&s.as_str()));
            }
            // What was accepted is accepted again, as a client sending it back, and unchanged.
            let again: Vec<FieldInput> = out
                .custom
                .iter()
                .map(|(k, v)| FieldInput {
                    schema_name: k.clone(),
                    value: v.clone(),
                })
                .collect();
            let out2 = validate(&ty, &again, &empty, case.skip_option_check)
                .expect("accepted values validate again");
            assert_eq!(out2.custom, out.custom);
            // An update with nothing new keeps the stored values.
            let kept = validate(&ty, &[], &out.custom, case.skip_option_check)
                .expect("stored values stand");
            assert_eq!(kept.custom, out.custom);
            // Skipping the option check only ever accepts more.
            if !case.skip_option_check {
                let skipped =
                    validate(&ty, &inputs, &empty, true).expect("accepted without options");
                assert_eq!(skipped.custom, out.custom);
            }
        }
        Err(e) => {
            // Refused naming the field at fault (as its type spells it): one the client sent,
            // Status, or a mandatory one.
            let Error::InvalidValue {
                field: Field::ActivityField(name),
                ..
            } = &e
            else {
                panic!("unexpected error kind {e:?}");
            };
            let named = inputs
                .iter()
                .any(|i| i.schema_name.trim().eq_ignore_ascii_case(name))
                || name == "Status"
                || defs
                    .iter()
                    .any(|d| d.is_mandatory && &d.schema_name == name);
            assert!(
                named,
                "{e} names {name:?}, which is no field of the request"
            );
            assert!(!e.to_string().is_empty());
        }
    }
});
