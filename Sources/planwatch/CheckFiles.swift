import ArgumentParser
import PlanFiles

/// Validates each data file with `load`, printing `FILE: ok — summary` or every problem as
/// FILE:LINE:COLUMN; exits 1 if any file has a problem (`check-plan`, `check-calendar`).
func checkEach<T>(_ files: [String], load: (String) throws -> T, summary: (T) -> String) throws {
    var failed = false
    for file in files {
        do {
            print("\(file): ok — \(summary(try load(file)))")
        } catch let invalid as InvalidFile {
            failed = true
            print(invalid.description)
        }
    }
    if failed { throw ExitCode(1) }
}
