//! The intern table is weak: strings nothing else uses are collected, and interning the same
//! text again afterwards still gives one object per text.

use lox::{Config, Lox, Outcome};

fn run(lox: &mut Lox, source: &str) -> String {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let outcome = lox.interpret(source.as_bytes(), &mut out, &mut err);
    assert_eq!(outcome, Outcome::Ok, "{}", String::from_utf8_lossy(&err));
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn unused_interned_strings_are_collected() {
    for config in [Config::default(), Config::stress()] {
        let mut lox = Lox::new(&config);
        let baseline = lox.interned_strings();
        run(
            &mut lox,
            "var keep = \"kept\";\n\
             { var s = \"\"; for (var i = 0; i < 500; i = i + 1) s = s + \"x\"; }",
        );
        if !config.stress {
            // (In stress mode collections during the run already cleared most of them.)
            assert!(lox.interned_strings() > baseline + 500);
        }
        lox.collect_full();
        let after = lox.interned_strings();
        assert!(after < baseline + 10, "{after} strings still interned (baseline {baseline})");

        // Made again, equal texts are still the same objects: `==` compares identity.
        let out = run(
            &mut lox,
            "print keep == \"ke\" + \"pt\";\n\
             var a = \"\"; for (var i = 0; i < 300; i = i + 1) a = a + \"x\";\n\
             var b = \"\"; for (var i = 0; i < 100; i = i + 1) b = b + \"xxx\";\n\
             print a == b;",
        );
        assert_eq!(out, "true\ntrue\n");
    }
}
