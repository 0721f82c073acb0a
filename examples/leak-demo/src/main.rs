//! `cargo run -p leak-demo`: the listener leak, the report that finds it, the fix.
//!
//! `--json` prints the reports as JSON; `--snapshot DIR` writes the test heaps' snapshots and
//! expectations for `scripts/memlab-check`; `--heapsnapshot FILE` writes the leaking heap's
//! snapshot (open it in Chrome DevTools' Memory panel).

use leak_demo::{session, snapshot_heaps};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--snapshot") => {
            let dir = std::path::PathBuf::from(args.get(1).expect("--snapshot DIR"));
            std::fs::create_dir_all(&dir)?;
            for name in snapshot_heaps(&dir)? {
                println!("{}", dir.join(name).display());
            }
            return Ok(());
        }
        Some("--heapsnapshot") => {
            let file = args.get(1).expect("--heapsnapshot FILE");
            session(false).write_heap_snapshot(std::fs::File::create(file)?)?;
            println!("wrote {file}");
            return Ok(());
        }
        _ => {}
    }
    let json = args.iter().any(|a| a == "--json");

    // The bug: closed windows keep their resize handler subscribed.
    let mut arena = session(false);
    let report = arena.leak_report();
    if json {
        println!("{}", report.to_json());
    } else {
        println!(
            "=== With the bug: windows are closed but their resize handlers stay subscribed\n"
        );
        println!("{report}");
        println!("=== Class histogram\n");
        println!("{}", arena.class_histogram());
    }
    assert_eq!(report.leak_count(), 9, "nine closed windows are retained (one more is pending)");
    assert_eq!(report.growing_roots[0].label, "arena root.emitter");

    // The fix: `close` unsubscribes the window's handler.
    let mut arena = session(true);
    let fixed = arena.leak_report();
    if json {
        println!("{}", fixed.to_json());
    } else {
        println!("=== With the fix: `close` unsubscribes the handler\n");
        println!("{fixed}");
    }
    assert!(fixed.is_empty());
    Ok(())
}
