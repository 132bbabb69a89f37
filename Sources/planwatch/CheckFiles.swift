import ArgumentParser
import PlanFiles
import PlanWatchModel

/// Validates each data file with `load`, printing `FILE: ok — summary` or every problem as
/// FILE:LINE:COLUMN; exits 1 if any file has a problem (`check-plan`, `check-calendar`).
/// With `json`, one object per file: `{"file", "valid", "summary"}` or `{"file", "valid":
/// false, "problems": [{"line", "column", "path", "message"}]}`.
func checkEach<T>(_ files: [String], json: Bool = false, load: (String) throws -> T, summary: (T) -> String) throws {
    var failed = false
    for file in files {
        do {
            let text = summary(try load(file))
            emit(json ? JSONWriter.string(.object(JSONObject([("file", .string(file)), ("valid", true), ("summary", .string(text))]))) : "\(file): ok — \(text)")
        } catch let invalid as InvalidFile {
            failed = true
            emit(json ? problemsJSON(file, invalid.problems) : invalid.description)
        }
    }
    if failed { throw ExitCode(1) }
}

func problemsJSON(_ file: String, _ problems: [FileProblem]) -> String {
    JSONWriter.string(
        .object(
            JSONObject([
                ("file", .string(file)), ("valid", false),
                ("problems", .array(problems.map { p in
                    .object(JSONObject([
                        ("file", .string(p.file)), ("line", .integer(Int64(p.line))), ("column", .integer(Int64(p.column))),
                        ("path", .string(p.path)), ("message", .string(p.message)),
                    ]))
                })),
            ])))
}
