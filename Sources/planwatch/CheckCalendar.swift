import ArgumentParser
import HandlerKit
import PlanFiles

struct CheckCalendar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-calendar",
        abstract: "Validate holiday calendar files (one year each: days off and make-up working days).",
        discussion: "Prints every problem as FILE:LINE:COLUMN: key.path: what is wrong; exits 1 if any.")

    @Argument(help: "Calendar files, e.g. Plans/calendar/cn-2026.yaml.")
    var files: [String]

    @Flag(help: "One JSON object per file: valid, and its summary or its problems.")
    var json = false

    func run() throws {
        try checkEach(files, json: json, load: CalendarFile.load(path:)) { year in
            let calendar = WorkCalendar(years: [year])
            let first = LocalDate(year: year.year, month: 1, day: 1)!
            let last = LocalDate(year: year.year, month: 12, day: 31)!
            let working = calendar.workingDays(from: first.adding(days: -1), to: last)
            let off = year.holidays.map { "\($0.name) \($0.from)…\($0.to)" }.joined(separator: ", ")
            return "\(year.year), \(year.holidays.count) holidays, \(working) working days: \(off)"
        }
    }
}
