namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// The one way the module writes a value into a PowerShell command line it shows (a next step,
    /// a resume command, a completion): a single-quoted literal, embedded quotes doubled, so
    /// nothing in it is expanded or split when the admin runs it.
    /// </summary>
    internal static class PowerShellQuote
    {
        public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";
    }
}
