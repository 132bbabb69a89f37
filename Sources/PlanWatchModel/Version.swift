/// PlanWatch's version, as `--version` and `planwatch_build_info` report it.
public enum PlanWatchVersion {
    public static let current = "0.19.0"
}
