import Foundation
import HandlerKit
import PlanFiles
import PlanWatchRuntime

/// Everything that decides what the handlers and the alert desk output — plans, clock,
/// holiday calendar, rule deadlines and owners — read the same way by the daemon and by the
/// commands that rebuild its state from a journal (`planwatch replay`, `planwatch explain`),
/// so that a replay gives the daemon's outputs.
package struct HandlerSettings: Sendable {
    package var plans: PlanSet
    package var clock: ClockMode
    package var calendar: WorkCalendar
    package var timings: RuleTimings
    package var alertPolicy: AlertPolicy

    /// The folder searched for holiday calendars when none are named.
    package static let defaultCalendarFolder = "Plans/calendar"

    /// The settings from a config file, with flags taking precedence where given (non-empty).
    package static func load(
        file: DaemonConfig?, plans: [String], clock: String?, calendars: [String], manifests: [HandlerManifest]
    ) throws -> HandlerSettings {
        let clockText = clock ?? file?.clock ?? "wall"
        guard let mode = ClockMode(rawValue: clockText) else {
            throw DaemonConfig.Invalid(description: "clock '\(clockText)' is not wall or event")
        }
        let planPaths = plans.isEmpty ? (file?.plans ?? []) : plans
        let planSet: PlanSet
        do {
            planSet = try PlanFile.loadSet(
                paths: planPaths, catalog: IndicatorCatalog(manifests), atRiskMarginPoints: file?.atRiskMarginPoints ?? 10)
        } catch {
            throw DaemonConfig.Invalid(description: "plan files are not valid:\n\(error)")
        }
        // A folder stands for every calendar file in it, so a deployment adds a year by adding a file.
        // The default folder is optional (absent outside a checkout); one that is named is not.
        let named = !calendars.isEmpty ? calendars : file?.calendars
        let calendarPaths = (named ?? [defaultCalendarFolder]).flatMap { path -> [String] in
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            if exists && isFolder.boolValue { return CalendarFile.files(in: path) }
            return named == nil ? [] : [path]
        }
        let calendar: WorkCalendar
        do {
            calendar = try CalendarFile.loadCalendar(paths: calendarPaths)
        } catch {
            throw DaemonConfig.Invalid(description: "calendar files are not valid:\n\(error)")
        }
        let (policy, timings) = try DaemonConfig.rules(file?.rules ?? [:], manifests: manifests)
        return HandlerSettings(plans: planSet, clock: mode, calendar: calendar, timings: timings, alertPolicy: policy)
    }

    /// Puts the clock, calendar, deadlines and owners into a runtime configuration.
    package func apply(to config: inout RuntimeConfig) {
        config.clock = clock
        config.calendar = calendar
        config.timings = timings
        config.alertPolicy = alertPolicy
        config.plans = plans
    }
}
