using Ranking.Cli;

// Exit codes: 0 success, 2 bad input or usage (one clear message on stderr), 1 an internal fault.
return CliRunner.Run(RankingCli.CreateRoot(), args);
