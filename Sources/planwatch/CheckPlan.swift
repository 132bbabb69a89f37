import ArgumentParser
import PlanFiles

struct CheckPlan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-plan",
        abstract: "Validate plan files (YAML targets as data).",
        discussion: "Prints every problem as FILE:LINE:COLUMN: key.path: what is wrong; exits 1 if any.")

    @Argument(help: "Plan files, e.g. Plans/zibo-2020.yaml.")
    var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            do {
                let plan = try PlanFile.load(path: file)
                print("\(file): ok — \(plan.plan), city \(plan.city), \(plan.period.start)…\(plan.period.end), \(plan.targets.count) targets")
            } catch let invalid as PlanFile.Invalid {
                failed = true
                print(invalid.description)
            }
        }
        if failed { throw ExitCode(1) }
    }
}
