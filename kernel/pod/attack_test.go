package pod_test

func attack(args []string) int { return 0 }
