Console.WriteLine("buildpool");
