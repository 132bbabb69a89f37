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
        try checkEach(files, load: PlanFile.load(path:)) { plan in
            "\(plan.plan), city \(plan.city), \(plan.period.start)…\(plan.period.end), \(plan.targets.count) targets"
        }
    }
}
